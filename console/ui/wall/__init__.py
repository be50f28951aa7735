"""The NOC wall: a full-screen grid of service tiles, worst first, never old data as fresh."""
