"""Changes to a sold session (issue 11; R6.1, R9.3): a change of its time or venue (once, with a reason), and
its cancellation or postponement in bulk (a dry run, a second person's approval, then a background job that
refunds or notifies each order exactly once). Every affected buyer answers by a signed link: keep, exchange,
or a free refund until a deadline."""
