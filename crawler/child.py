"""The crawl child: one Scrapy CrawlerProcess running one spider for every source of a job.

Only this process (and the launcher that forks it) imports Scrapy.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from crawler.spool import CrawlJob, PageWriter, unknown_kind


def reader_classes() -> dict[str, type[Any]]:
    # Imported here so that Scrapy (and its reactor) only ever load in the child.
    from crawler.spiders.feed import FeedReader
    from crawler.spiders.news import NewsReader
    from crawler.spiders.ofsted import OfstedReader

    return {"ofsted": OfstedReader, "news": NewsReader, "feed": FeedReader}


def child_main(job_path: str, outdir: str) -> int:
    """The child: one CrawlerProcess running one spider for every source, writing to `outdir`."""
    from scrapy.crawler import CrawlerProcess

    from crawler.settings import scrapy_settings
    from crawler.spiders.base import JobSpider

    job = CrawlJob.from_json(json.loads(Path(job_path).read_text("utf-8")))
    writer = PageWriter(outdir)
    kinds = reader_classes()
    readers = []
    for source in job.sources:
        reader = kinds.get(source.kind)
        if reader is None:
            writer.failure(unknown_kind(source))
            continue
        readers.append(reader(source, job, writer))
    process = CrawlerProcess(scrapy_settings(job))
    process.crawl(JobSpider, readers=readers, writer=writer)
    process.start()
    writer.close()
    return 0


if __name__ == "__main__":
    sys.exit(child_main(sys.argv[1], sys.argv[2]))
