"""Exchange: the REST API (and, beside it, TAXII 2.1) served over the store, policy applied."""
