FLASK_APP=core.wsgi:app
