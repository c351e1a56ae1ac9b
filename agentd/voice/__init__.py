"""The voice path: audio in (a file descriptor) → text → the normal request path.

``audio`` decodes and checks what arrives (WAV or raw PCM), ``vad`` finds speech in it,
``recognizer`` is the speech-to-text Protocol with its named backends (``whisper``:
faster-whisper on CTranslate2), ``bias`` builds the recogniser's prompt from the sentence
templates, ``models`` installs the Whisper model, ``service`` is what ``AskAudio`` calls,
``speech`` speaks replies with espeak-ng and ``record`` records from a microphone.
"""
