"""Analytical products: per-country activity reports and alerts, built from what each
recipient may see and carrying the handling of their most restricted content."""
