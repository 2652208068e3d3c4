"""The page, its scripts and styles: shipped as package data of `redline.static`."""
