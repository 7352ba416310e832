"""Org and accounts through the GraphQL contract."""

from __future__ import annotations

from tests.factories import PASSWORD, make_org

ME = "{ me { username roles employee { employeeNo name position { code loanLimit } quota { limit committed available } } } }"


async def test_login_and_me(gql, db):
    await make_org()
    token = await gql.login("sales", PASSWORD)
    me = (await gql.ok(ME, token=token))["me"]
    assert me["username"] == "sales"
    assert me["roles"] == ["EMPLOYEE"]
    assert me["employee"]["position"] == {"code": "SALES", "loanLimit": "10000.00"}
    assert me["employee"]["quota"] == {"limit": "10000.00", "committed": "0.00", "available": "10000.00"}


async def test_unauthenticated_gets_code(gql, db):
    err = await gql.error(ME)
    assert err["extensions"]["code"] == "UNAUTHENTICATED"


async def test_wrong_password_is_unauthenticated(gql, db):
    await make_org()
    err = await gql.error('mutation { login(username:"sales", password:"nope-nope") { token } }')
    assert err["extensions"]["code"] == "UNAUTHENTICATED"


async def test_login_throttled_after_repeated_failures(gql, db):
    await make_org()
    for _ in range(5):
        await gql.error('mutation { login(username:"sales", password:"wrong-wrong") { token } }')
    # Even the right password is refused while this address is locked for this account.
    err = await gql.error(f'mutation {{ login(username:"sales", password:"{PASSWORD}") {{ token }} }}')
    assert err["extensions"]["code"] == "RATE_LIMITED"
    assert 14 * 60 < err["extensions"]["retryAfter"] <= 15 * 60
    assert "过多" in err["message"]


async def test_employee_cannot_change_org_data(gql, db):
    await make_org()
    token = await gql.login("sales", PASSWORD)
    err = await gql.error('mutation { upsertDepartment(code:"X", name:"X") { id } }', token=token)
    assert err["extensions"]["code"] == "FORBIDDEN"


async def test_admin_upserts_position_and_creates_employee(gql, db):
    await make_org()
    token = await gql.login("admin", PASSWORD)
    data = await gql.ok("""mutation {
      upsertPosition(input:{code:"RSM", name:"区域销售经理", level:6, loanLimit:"20000.00",
                            monthlyLoanLimit:"15000", approvalChain:[SUPERVISOR, FINANCE]}) {
        code loanLimit monthlyLoanLimit settleDays approvalChain } }""", token=token)
    assert data["upsertPosition"] == {"code": "RSM", "loanLimit": "20000.00", "monthlyLoanLimit": "15000.00",
                                      "settleDays": 15, "approvalChain": ["SUPERVISOR", "FINANCE"]}
    data = await gql.ok("""mutation {
      createEmployee(input:{employeeNo:"R1", name:"张伟", departmentCode:"SALES", regionCode:"XA",
        positionCode:"RSM", supervisorNo:"M1", monthlySalary:"16000.00", hireDate:"2025-01-02",
        username:"zhangwei", password:"long-enough-1"}) {
        employeeNo supervisor { employeeNo } monthlySalary status position { name } } }""", token=token)
    assert data["createEmployee"] == {"employeeNo": "R1", "supervisor": {"employeeNo": "M1"},
                                      "monthlySalary": "16000.00", "status": "ACTIVE",
                                      "position": {"name": "区域销售经理"}}
    new_token = await gql.login("zhangwei", "long-enough-1")
    assert (await gql.ok("{ me { roles } }", token=new_token))["me"]["roles"] == ["EMPLOYEE"]


async def test_invalid_money_is_validation(gql, db):
    await make_org()
    token = await gql.login("admin", PASSWORD)
    err = await gql.error("""mutation { upsertPosition(input:{code:"X", name:"X", level:1, loanLimit:"10.001",
        approvalChain:[FINANCE]}) { code } }""", token=token)
    assert err["extensions"]["code"] == "VALIDATION"


async def test_employee_sees_only_own_salary(gql, db):
    people = await make_org()
    token = await gql.login("sales", PASSWORD)
    err = await gql.error(f'{{ employee(id:"{people.finance}") {{ name monthlySalary }} }}', token=token)
    assert err["extensions"]["code"] == "FORBIDDEN"
    manager_token = await gql.login("manager", PASSWORD)
    data = await gql.ok(f'{{ employee(id:"{people.sales}") {{ monthlySalary }} }}', token=manager_token)
    assert data["employee"]["monthlySalary"] == "8000.00"
