"""The monitoring engine: scheduling, probing, judging and recording, on asyncio, without Qt."""
