"""Local servers that speak cloud providers' wire protocols, for tests (the OpenAI one is
``tests.openai_server``)."""
