/* A search result's snippet never shows what its page folds.

   Sphinx's search (searchtools.js, loaded on every page by the theme) shows each matching page
   with a snippet: it fetches the page and cuts 240 characters around the word from the text of
   [role=main], closed <details> included. A learner who searched for a name from an exercise
   read its solution in the results list ("dx_padded" showed notebook 14's solution code), before
   choosing to open the fold. Search.htmlToText, which makes that text, now gets the page without
   its closed folds (solutions, worked answers, hints); the pages themselves keep them. A page
   found only by words inside its folds is still listed, its snippet then the page's start: the
   article's header buttons are left out too, whose ".pdf" was all that snippet said.
   Checked in Chromium by tests/test_site_search.py. */
"use strict";

if (typeof Search !== "undefined") {
  const textWithFolds = Search.htmlToText;
  Search.htmlToText = (htmlString, anchor) => {
    const page = new DOMParser().parseFromString(htmlString, "text/html");
    const hidden = "details:not([open]), .bd-header-article";
    page.querySelectorAll(hidden).forEach((element) => element.remove());
    return textWithFolds(page.documentElement.outerHTML, anchor);
  };
}
