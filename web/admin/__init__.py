"""The system administrator's and the supervisor's oversight pages (R2.2, R6.3, issue 14): the audit chain,
backups, the customer data log, data-use requests."""

from web.admin import audit_chain, backups, privacy

ROUTES = [*audit_chain.ROUTES, *backups.ROUTES, *privacy.ROUTES]
NAV = [*audit_chain.NAV, *backups.NAV, *privacy.NAV]
