"""A school's teaching platform, CRM and OA system as real HTTP servers (``server``), each with its own auth,
pagination and planned failures, for the pull connector's tests and the demo."""
