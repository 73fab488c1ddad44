"""Session changes (issue 11; R6.1, R9.3): a sold session's time or venue change, its cancellation or
postponement in bulk (dry run, a second person's approval, the job's progress and report), and the buyer's
answer from the signed link. Domain logic lives in db.sessionchange; handlers stay thin."""

from db.staff.permissions import Permission
from web.sessionchange import buyer, pages

ROUTES = [*pages.ROUTES, *buyer.ROUTES]

NAV = [(Permission.SESSION_BULK_APPROVE, "/changes", "Session changes")]
