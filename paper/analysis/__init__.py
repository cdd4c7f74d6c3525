"""Analysis steps: each computes one figure's data from ``theory`` and ``empirical`` into ``data/``.

Every module defines

* ``NAME``: the step name, which also names its key file in ``cache/steps``;
* ``MODULES``: the modules whose code it calls, whose source enters the input hash;
* ``settings_record(context)``: the settings and data source that decide its output;
* ``compute(context)``: writes the data files and returns their paths.
"""
