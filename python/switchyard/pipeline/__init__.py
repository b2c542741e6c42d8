"""The request pipeline: one module per stage (ingress, auth, inspect, route, dispatch, respond, account),
assembled once from the config by `gateway.Gateway`."""
