from prolotrack.domain.anatomy import Region
from prolotrack.patients.models import BodyRegion


def test_registry_body_regions_use_the_domain_codes():
    assert {r.value for r in Region} == set(BodyRegion.values) - {"other"}
