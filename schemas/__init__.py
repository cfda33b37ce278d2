"""The forms: one module per form (or set of forms) defining SPEC or SPECS; modules named _*.py are helpers.

Imported by name (`unionbatch.spec.load_specs` imports `schemas.<module>`), so `import schemas.relief_list`
and the loaded specs share one module and one SPEC."""
