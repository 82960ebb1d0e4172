"""Request (``XCreate``/``XUpdate``) and response (``XPublic``) schemas of the REST API."""
