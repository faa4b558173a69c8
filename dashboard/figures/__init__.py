"""Pure DataFrame -> plotly Figure builders, one module per analytic; units on every axis."""
