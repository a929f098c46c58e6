"""The rubrics shipped with accelgrade (YAML files beside this module)."""
