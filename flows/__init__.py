"""The orchestration shell: Prefect flows, deployments and the ``outcome-study`` command."""
