import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from gridgis import encodings, io
from gridgis.errors import CRSError, GeometryError, GridGISError, InputFileError, SchemaError

CSV_CN = "网格编码,网格名称,户数,经度,纬度\n430302001001001,韶山路一网格,420,112.90,27.85\n430302001001002,韶山路二网格,380,112.91,27.86\n"


def test_detect_encoding_on_real_bytes():
    assert encodings.detect_encoding(CSV_CN.encode("gbk")) == "gb18030"
    assert encodings.detect_encoding(CSV_CN.encode("utf-8")) == "utf-8"
    assert encodings.detect_encoding(b"\xef\xbb\xbf" + CSV_CN.encode("utf-8")) == "utf-8-sig"
    assert encodings.detect_encoding(CSV_CN.encode("gb18030")) == "gb18030"


@pytest.mark.parametrize("encoding", ["gbk", "utf-8", "utf-8-sig", "gb18030"])
def test_read_csv_any_encoding_keeps_codes(tmp_path, encoding):
    p = tmp_path / "plan.csv"
    p.write_bytes(CSV_CN.encode(encoding))
    df = io.read_table(p, required=["grid_code", "households"])
    assert list(df.columns) == ["grid_code", "grid_name", "households", "lon", "lat"]
    assert df["grid_code"].tolist() == ["430302001001001", "430302001001002"]
    assert df["grid_name"].iloc[0] == "韶山路一网格"


def test_codes_keep_leading_zeros(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("编码,名称\n010203,甲\n", encoding="utf-8")
    assert io.read_table(p)["code"].iloc[0] == "010203"


def test_excel_and_parquet(tmp_path):
    df = pd.DataFrame({"网格编码": ["001", "002"], "户数": [300, 400], "经度": [112.9, 112.91], "纬度": [27.8, 27.81]})
    df.to_excel(tmp_path / "a.xlsx", index=False)
    df.to_parquet(tmp_path / "a.parquet")
    for name in ("a.xlsx", "a.parquet"):
        out = io.read_table(tmp_path / name)
        assert out["grid_code"].tolist() == ["001", "002"]
        assert out["households"].tolist() == [300, 400]


@pytest.mark.parametrize(
    "content, exc, words",
    [
        (b"", InputFileError, ["empty"]),
        (b"   \n\n", InputFileError, ["no rows"]),
        (b'a,b\n1,2,3,4\n"x,5\n', InputFileError, ["malformed CSV"]),
    ],
)
def test_bad_csv(tmp_path, content, exc, words):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(exc) as err:
        io.read_table(p)
    for w in words:
        assert w in str(err.value)
    assert "bad.csv" in str(err.value)


def test_wrong_encoding_forced(tmp_path):
    p = tmp_path / "g.csv"
    p.write_bytes(CSV_CN.encode("gbk"))
    with pytest.raises(InputFileError, match="cannot decode as utf-8"):
        io.read_table(p, encoding="utf-8")


def test_missing_file_and_columns(tmp_path):
    with pytest.raises(InputFileError, match="not found"):
        io.read_table(tmp_path / "nope.csv")
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="households"):
        io.read_table(p, required=["households"])
    with pytest.raises(SchemaError, match="longitude"):
        io.read_points(p)
    (tmp_path / "x.dbf2").write_text("x")
    with pytest.raises(InputFileError, match="unsupported"):
        io.read_table(tmp_path / "x.dbf2")


def test_read_points_keeps_every_row(tmp_path):
    p = tmp_path / "pts.csv"
    p.write_text("地址,经度,纬度\nA,112.9,27.85\nB,,27.8\nC,abc,27.8\nD,112.91,27.86\n", encoding="gbk")
    pts = io.read_points(p)
    assert len(pts) == 4 and pts.crs.to_epsg() == 4326
    assert pts["address"].tolist() == ["A", "B", "C", "D"]
    assert pts.geometry.isna().tolist() == [False, True, True, False]


def test_read_points_gcj02(tmp_path):
    from gridgis.crs import wgs84_to_gcj02

    glon, glat = wgs84_to_gcj02(112.9, 27.85)
    df = pd.DataFrame({"lng": [float(glon)], "lat": [float(glat)]})
    pts = io.read_points(df, crs="GCJ02")
    assert pts.geometry.x.iloc[0] == pytest.approx(112.9, abs=1e-8)
    assert pts["lon_raw"].iloc[0] == pytest.approx(float(glon))


def _layer(n=3, crs=4547):
    return gpd.GeoDataFrame(
        {"网格编码": [f"{i:03d}" for i in range(n)]},
        geometry=[shapely.box(i, 0, i + 1, 1) for i in range(n)], crs=crs,
    )


def test_gpkg_round_trip_and_layers(tmp_path):
    p = tmp_path / "plan.gpkg"
    table = pd.DataFrame({"k": ["a"], "v": [1]})
    io.write_gpkg({"grids": _layer(), "meta": table}, p)
    assert set(io.list_layers(p)) == {"grids", "meta"}
    g = io.read_vector(p, layer="grids", geometry="polygon", required=["grid_code"])
    assert g["grid_code"].tolist() == ["000", "001", "002"] and g.crs.to_epsg() == 4547
    with pytest.raises(InputFileError, match="2 layers"):
        io.read_vector(p)
    with pytest.raises(InputFileError, match="no layer 'roads'"):
        io.read_vector(p, layer="roads")
    with pytest.raises(GeometryError, match="expected point"):
        io.read_vector(p, layer="grids", geometry="point")


def test_vector_errors(tmp_path):
    empty = _layer(0)
    p = tmp_path / "e.gpkg"
    io.write_gpkg({"grids": empty}, p)
    with pytest.raises(InputFileError, match="no features"):
        io.read_vector(p)
    nocrs = _layer(2).set_crs(None, allow_override=True)
    q = tmp_path / "n.gpkg"
    with pytest.warns(UserWarning):
        nocrs.to_file(q, engine="pyogrio")
    with pytest.raises(CRSError, match="no CRS"):
        io.read_vector(q)
    assert io.read_vector(q, crs=4547).crs.to_epsg() == 4547
    bow = _layer(2)
    bow.loc[1, "geometry"] = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])
    r = tmp_path / "bow.gpkg"
    io.write_gpkg({"grids": bow}, r)
    with pytest.raises(GeometryError) as err:
        io.read_vector(r, allow_invalid=False)
    assert "feature(s) 1" in str(err.value) and "Self-intersection" in str(err.value)
    (tmp_path / "junk.gpkg").write_bytes(b"not a database at all")
    with pytest.raises(GridGISError, match="junk.gpkg"):
        io.read_vector(tmp_path / "junk.gpkg")


def test_write_table_formats(tmp_path):
    df = pd.DataFrame({"grid_code": ["001"], "n": [np.int64(2)]})
    for suffix in ("csv", "xlsx", "parquet"):
        out = io.write_table(df, tmp_path / f"t.{suffix}")
        assert io.read_table(out)["grid_code"].tolist() == ["001"]
