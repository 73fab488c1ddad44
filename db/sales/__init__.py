"""Orders, payments and tickets: the sales flow of R3.3-R3.6."""
