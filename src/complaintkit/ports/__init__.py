"""Protocols of the outside systems the kit talks to: SMS and e-mail transports, BOSS/CRM."""
