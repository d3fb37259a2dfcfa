"""The 1C exchange (D12): the month's services rendered for 1C:Бухгалтерия 3.0 as an
EnterpriseData message (``sales``), the same acts and the month's payments as Excel registers
(``registers``), made by background jobs on demand and on the first working day of a month
(``jobs``, ``tasks``). Bank statements come the other way: billing.bankimport."""
