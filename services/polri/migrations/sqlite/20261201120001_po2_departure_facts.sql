-- PO2 (a blocked child) applies to a traveller Lintas never registered: a block carries
-- whether the traveller was a child on the local day of the check (`traveller_minor`,
-- derived by the checkpoint intake from the NIK), kept here as 1 or 0. NULL when the block
-- did not say (written before the field existed): then only a registration's birth date
-- tells.
ALTER TABLE blocks ADD COLUMN traveller_minor BIGINT;
