"""The prose reader: Ofsted outcomes as news stories, council releases and minutes tell them.

Pure: prose in, outcomes (or the reason there are none) out. The stages, each handing a frozen
record to the next: sentences (sentences, clauses, tense), grades and areas (grades tied to
judgement areas in a clause), story (councils, events, mentions, dates), relevance (whether the page
is news of a judgement at all), outcome (one council's outcome) and reader (the whole). Wording
lives in data/prose.toml.
"""

from crawler.parsers.article.reader import ArticleReading, parse_article, read_article

__all__ = ["ArticleReading", "parse_article", "read_article"]
