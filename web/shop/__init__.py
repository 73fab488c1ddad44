"""The public shop (R3.3 online channel, R3.4, R5.1, R6.2): browse and buy without a staff login, pay
through the sandbox provider, get e-tickets by e-mail, and look orders up again. Every route is public."""

from web.shop import browse, exchange, lookup, orders

ROUTES = [*browse.ROUTES, *orders.ROUTES, *exchange.ROUTES, *lookup.ROUTES]
