"""Provider responses wrapped with request metadata (`envelope`), one module per response kind
and the reading they share."""
