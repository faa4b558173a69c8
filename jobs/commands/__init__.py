"""Analytic sub-commands of the ``flowdesk`` CLI (``flowdesk gamma FILE``, ``flowdesk letf ...``).

Each module here defines click commands and lists them in a module-level ``COMMANDS`` list;
:mod:`jobs.cli` discovers the modules and adds every command to the ``flowdesk`` group.
"""
