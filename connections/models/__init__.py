from .address import Building, District, Street
from .clients import ClientCard, ClientContact, ConnectionType, Stage

__all__ = ["Building", "ClientCard", "ClientContact", "ConnectionType", "District", "Stage",
           "Street"]
