"""The security rules by subject. `apps.security.engine.review.analyze_security` runs them in
order; each module reports to the `Review` of `apps.security.engine.reporter`."""
