"""The organisation file (SPEC §1): a shared artefact. Dispatch loads it into
the directory, the gateway's token command issues demo tokens for its people,
the local run points both at it; so its format and reading live here.

A YAML document (data/organisation/demo.yaml is the reference example);
`people` may instead name a CSV file beside it (columns id, name, mobile,
roles, unit, bonus; roles separated by `;`), as HR systems export one.
Validation is all-or-nothing: a bad file is refused with every problem named
by its place (`projects[2].city_tier: ...`) and nothing is loaded.
"""
from shared.organisation_file.reading import (
    OrganisationFile,
    invalid,
    people_of,
    read_organisation,
)
from shared.organisation_file.yaml_file import FILE_PLACE

__all__ = ["FILE_PLACE", "OrganisationFile", "invalid", "people_of", "read_organisation"]
