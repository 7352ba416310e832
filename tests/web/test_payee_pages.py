"""收款账户 through the API and the page, and the bank batch download on the journal page."""

from __future__ import annotations

from tests.factories import make_org


async def test_api_and_pages(db, gql, browser):
    people = await make_org()
    token = await gql.login("sales")
    data = await gql.ok("mutation($id:ID!,$i:PayeeAccountInput!){ setPayeeAccount(employeeId:$id,input:$i){ "
                        "accountName accountNoMasked bank } }",
                        {"id": str(people.sales), "i": {"accountName": "张三", "accountNo": "6222021001012345678",
                                                        "bank": "工商银行"}}, token)
    assert data["setPayeeAccount"]["accountNoMasked"] == "**** 5678"
    bad = await gql.error("mutation($id:ID!,$i:PayeeAccountInput!){ setPayeeAccount(employeeId:$id,input:$i){ bank } }",
                          {"id": str(people.sales), "i": {"accountName": "张三", "accountNo": "12", "bank": "x"}}, token)
    assert bad["extensions"]["code"] == "VALIDATION"
    await browser.login("sales")
    page = await browser.get("/account/payee")
    assert page.status_code == 200 and "**** 5678" in page.text and "6222021001012345678" not in page.text
    saved = await browser.post("/account/payee", {"accountName": "张三", "accountNo": "abc", "bank": "工商银行"})
    assert saved.status_code == 422 and "8 到 32 位数字" in saved.text


async def test_finance_downloads_the_bank_batch(browser, db):
    await make_org()
    await browser.login("finance")
    page = await browser.get("/finance/journal")
    assert 'href="/finance/bank-batch?format=CSV"' in page.text
    csv_file = await browser.get("/finance/bank-batch?format=CSV")
    assert csv_file.status_code == 200 and csv_file.content.decode("utf-8-sig").startswith("收款人户名,收款账号")


async def test_admin_exports_vouchers_but_sees_no_bank_batch_link(browser, db):
    await make_org()
    await browser.login("admin")
    page = await browser.get("/finance/journal")
    assert page.status_code == 200 and "/finance/bank-batch" not in page.text
