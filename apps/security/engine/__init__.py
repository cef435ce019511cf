"""The security review: OWASP API Security Top 10 (2023) and data protection. Pure Python."""
