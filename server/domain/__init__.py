"""Pure business rules: no Tortoise, Starlette or Strawberry imports."""
