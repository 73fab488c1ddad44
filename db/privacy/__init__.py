"""Customer data protection (R6.3, issue 14, GB/T 35273): masked by default, each reveal logged with its
purpose, data-use requests approved by the supervisor, and retention (anonymisation after a set age)."""
