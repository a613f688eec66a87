"""The BOSS/CRM actions of a complaint (SPEC H1, H2), each permission-checked and recorded on the ticket."""
