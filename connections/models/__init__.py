from .address import Building, District, Street
from .clients import OPEN_STAGES, ClientCard, ClientContact, ConnectionType, Stage
from .contracts import Contract, ContractCounter
from .installations import SLOTS, Crew, Installation
from .surveys import EstimateLine, Survey, SurveyDayPlan
from .workflow import CardDocument, ColleagueQuestion, StageLog, WorkflowSettings

__all__ = ["OPEN_STAGES", "SLOTS", "Building", "CardDocument", "ClientCard", "ClientContact",
           "ColleagueQuestion", "ConnectionType", "Contract", "ContractCounter", "Crew",
           "District", "EstimateLine", "Installation", "Stage", "StageLog", "Street", "Survey",
           "SurveyDayPlan", "WorkflowSettings"]
