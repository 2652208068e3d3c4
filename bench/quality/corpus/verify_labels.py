"""Check that every quote in the corpus labels is an exact substring of its document.

Usage: python bench/quality/corpus/verify_labels.py   (needs python-docx and pdfplumber)

Text is extracted from .md (raw file), .docx (python-docx paragraphs) and .pdf
(pdfplumber); only whitespace is normalised before matching. Section titles must
also occur in the document text.
"""
import json
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def extract(path):
    if path.suffix == '.md':
        return path.read_text(encoding='utf-8')
    if path.suffix == '.docx':
        import docx
        d = docx.Document(str(path))
        cells = [c.text for t in d.tables for row in t.rows for c in row.cells]  # tables too
        return '\n'.join([p.text for p in d.paragraphs] + cells)
    if path.suffix == '.pdf':
        import pdfplumber
        with pdfplumber.open(str(path)) as pdf:
            return '\n'.join((pg.extract_text() or '') for pg in pdf.pages)
    raise ValueError(path)


def norm(s):
    return re.sub(r'\s+', ' ', s).strip()


def main():
    manifest = json.loads((HERE / 'manifest.json').read_text(encoding='utf-8'))
    checked = failed = 0
    for entry in manifest:
        labels = json.loads((HERE / entry['labels']).read_text(encoding='utf-8'))
        text = norm(extract(HERE / entry['file']))
        assert labels['split'] == entry['split'], entry['file']
        assert labels['kind'] == entry['kind'], entry['file']
        titles = [s['title'] for s in labels['sections']]
        items = [('section', t) for t in titles]
        for p in labels['problems']:
            assert p['section'] in titles, (entry['file'], p['section'])
            items.append(('problem', p['quote']))
            if p.get('related_quote'):
                assert p['related_section'] in titles, (entry['file'], p['related_section'])
                items.append(('related', p['related_quote']))
        for n in labels['not_problems']:
            assert n['section'] in titles, (entry['file'], n['section'])
            items.append(('not_problem', n['quote']))
        for what, q in items:
            checked += 1
            if norm(q) not in text:
                failed += 1
                print(f"MISSING {entry['file']} [{what}]: {q!r}")
    print(f'{checked} strings checked, {failed} missing')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
