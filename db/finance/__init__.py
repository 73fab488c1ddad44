"""Finance (R8): the money ledger (issue 11). Every movement of money is one immutable ledger entry;
nothing is corrected in place (a correction is another entry). Issue 12 adds shifts, reconciliation and
settlement, reading these entries."""
