"""Every user-facing string of the map editor, Chinese first, in one place (until the message
catalogue of :mod:`gridgis.i18n` takes them)."""

from __future__ import annotations

__all__ = ["SEVERITY", "STATUS", "TEXT"]

#: Size status of a grid → (label, fill colour).
STATUS = {
    "ok": ("规模达标", "#9ad29a"),
    "below": ("低于下限", "#f6d55c"),
    "above": ("超过上限", "#ed5f55"),
    "special": ("专属网格", "#7fb2e5"),
    "unknown": ("规模未知", "#c8c8c8"),
}

SEVERITY = {"error": "错误", "warning": "警告"}

#: Buttons, prompts and messages (``{}`` fields filled with ``str.format``).
TEXT = {
    # toolbar
    "mode_select": "选择",
    "mode_line": "画线",
    "mode_polygon": "画区域",
    "finish": "完成绘制",
    "merge": "合并所选",
    "split_line": "沿线拆分",
    "split_parts": "按建筑拆分",
    "parts": "份数",
    "transfer": "区域内建筑划入所选网格",
    "rename": "重命名",
    "name_placeholder": "新名称",
    "set_kind": "改类型",
    "undo": "撤销",
    "redo": "重做",
    "buildings": "显示建筑",
    "save": "保存为新版本",
    "note_placeholder": "版本说明",
    "clear": "清除选择",
    "hint": "单击选择网格，Shift+单击加选，Shift+拖动框选；拖动平移，滚轮缩放；"
            "画线/画区域时单击加点，双击完成，Esc 取消。",
    # panel
    "panel_title": "所选网格",
    "panel_none": "未选择网格。全区共 {grids} 个网格：{statuses}；{errors} 个错误，{warnings} 个警告。",
    "col_code": "编码",
    "col_name": "名称",
    "col_kind": "类型",
    "col_status": "规模",
    "col_households": "户数",
    "col_population": "人口",
    "col_community": "所属社区",
    "total": "合计 {n} 个网格：{households} 户，{population} 人",
    "findings": "问题",
    "no_findings": "所选网格没有问题。",
    "legend": "图例",
    # status line
    "ready": "就绪：{grids} 个网格。",
    "done": "{what}：{seconds:.2f} 秒；新增问题 {caused} 个，消除 {cleared} 个。",
    "undone": "已撤销：{what}",
    "redone": "已重做：{what}",
    "saved": "已保存为第 {version} 版：{note}",
    "drawn_line": "已画线（{n} 个点）：选择要拆分的网格后点“沿线拆分”。",
    "drawn_polygon": "已画区域（{n} 个点）：选择接收的网格后点“区域内建筑划入所选网格”。",
    "selected": "已选择 {n} 个网格。",
    "failed": "未完成：{error}",
    "plain": "网格地图编辑器：{grids} 个网格，已编辑 {edits} 步（在 Jupyter 中显示为交互地图）",
    # errors the editor itself raises
    "need_two": "合并需要至少选择两个网格",
    "need_one": "请只选择一个网格",
    "need_line": "请先在地图上画一条穿过网格的线",
    "need_polygon": "请先在地图上画一个区域",
    "no_buildings_in_area": "所画区域内没有其他网格的建筑",
    "need_name": "请输入新名称",
    "need_note": "请输入版本说明",
}
