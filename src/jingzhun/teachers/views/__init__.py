"""Teacher pages (II.3), one module per part: the roster (roster), the II.3 figures and
coverage I.3 (figures), training and exchange lists with their forms (records); shared
helpers in common."""
