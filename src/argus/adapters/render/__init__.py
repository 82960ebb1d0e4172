"""Rendering with OpenCV: heatmap overlays and PNG files."""

from argus.adapters.render.heatmap import render_heatmap, write_png

__all__ = ["render_heatmap", "write_png"]
