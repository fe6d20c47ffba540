"""What every web process runs gunicorn with, wherever it runs (the Procfile, compose, the
images, the benchmarks): ``gunicorn -c python:contracts.runtime.gunicorn_conf ...``; the
command line adds the address and the sizes."""

#: the access log without secrets in query strings
logger_class = "contracts.runtime.accesslog.AccessLogger"

#: gunicorn's default (2 s) closed the gateway's pooled connections between an exam hall's
#: autosaves, and one closed just as the gateway reused it became a 503. Kept open this long,
#: a connection in steady use is never closed under the gateway; one idle for longer is
#: closed well before it is used again, and the gateway's pool sees that at checkout.
keepalive = 75
