"""After-sale (issue 11; R5, R6.1, R9.3): refund and exchange rules as versioned data (rules.py, the pure
rule and quote; policies.py, the stored versions), refunds (refunds.py) and the money they move
(db/finance/ledger.py)."""
