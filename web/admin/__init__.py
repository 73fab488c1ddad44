"""The system administrator's pages (R2.2, R6.3, issue 14): the audit chain, backups."""

from web.admin import audit_chain, backups

ROUTES = [*audit_chain.ROUTES, *backups.ROUTES]
NAV = [*audit_chain.NAV, *backups.NAV]
