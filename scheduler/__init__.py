"""Chorus scheduler: the worker that claims and sends deliveries at their time (publishers for
each network, rate limits, alerts, the engagement collector), the sandbox that emulates the
networks, and the demo."""
