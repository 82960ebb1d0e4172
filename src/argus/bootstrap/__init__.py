"""The composition root: the one place that picks concrete adapters and wires the system.

Each module does one job; entry points import the one they need (importing
this package loads none of them):

* ``adapters``: open the store, the bus, the pipelines (``open_adapters`` ->
  ``Adapters``), the evidence blob store and the capacity store;
* ``policies``, ``sources``: settings turned into policies, configurations
  and the camera source policy;
* ``services``: every service of the control plane, built once, and the order
  they start in; ``lifecycle``: starts them in that order, stops them in reverse;
* ``app``: ``build_app``, the FastAPI app of ``argus serve`` over those services;
* ``edge``: the embedded edge worker; ``demo``: the demo camera and its rules;
* ``container``, ``models``, ``evaluation``: the CLI's foreground analysis,
  detectors and face models, tracker evaluation;
* ``auth``, ``audit``, ``evidence``, ``first_admin``: accounts, the audit log,
  evidence, for the server and the CLI's admin commands.
"""
