"""RPC contracts between the services (ARCHITECTURE, boundaries).

One module per callee: its methods as a typed client (`IntakeClient(proxy)
.record_complaint(actor, form)`), the schemas of their requests and answers,
and the errors each may raise. The callee validates with these schemas and
its callers import them from here, never from the callee's package.
"""
