import pandas as pd
import pytest

from gridgis import schema
from gridgis.errors import GridGISError, SchemaError


@pytest.mark.parametrize(
    "header, canonical",
    [
        ("网格编码", "grid_code"), ("网格名称", "grid_name"), ("所属社区", "community_code"),
        ("户数", "households"), ("人口", "population"), ("经度", "lon"), ("纬度", "lat"),
        ("地址", "address"), ("事件类型", "category"), ("Longitude", "lon"), ("LAT", "lat"),
        ("lng", "lon"), (" Grid_ID ", "grid_code"), ("经度（GCJ02）", "lon"), ("紧急程度", "urgency"),
        ("上报时间", "reported_at"), ("办结时间", "closed_at"), ("households", "households"),
    ],
)
def test_alias_maps_to_canonical(header, canonical):
    assert schema.canonical_name(header) == canonical


def test_unknown_header_kept():
    assert schema.canonical_name("备注") is None
    df = pd.DataFrame({"网格编码": ["1"], "备注": ["x"]})
    out = schema.normalize_columns(df)
    assert list(out.columns) == ["grid_code", "备注"]
    assert list(df.columns) == ["网格编码", "备注"]  # input untouched


def test_first_alias_wins_and_canonical_preferred():
    df = pd.DataFrame({"lon": [1.0], "经度": [2.0]})
    out = schema.normalize_columns(df)
    assert out["lon"].tolist() == [1.0]
    assert "经度" in out.columns


def test_missing_required_column_names_it():
    df = pd.DataFrame({"网格编码": ["1"]})
    with pytest.raises(SchemaError) as err:
        schema.normalize_columns(df, required=["households"], source="plan.csv")
    msg = str(err.value)
    assert "households" in msg and "plan.csv" in msg and "户数" in msg
    assert isinstance(err.value, GridGISError)


def test_extra_aliases():
    df = pd.DataFrame({"楼号": ["A1"]})
    out = schema.normalize_columns(df, extra_aliases={"楼号": "building_id"})
    assert list(out.columns) == ["building_id"]
