"""The training recipe: named datasets, the settings of a run and ``train_from_settings``, for every front end.

The command line (``numnet train``, ``sweep``, ``evaluate``, ``graph``) and the estimators build on this
package; it raises ``ValueError`` with a message that says what to change (the CLI prints it as one line).
"""
