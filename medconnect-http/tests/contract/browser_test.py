"""Swagger UI in a real headless browser (Debian's Chromium, driven by selenium): open
`/docs` at 127.0.0.1, sign in with the Authorize button (the OAuth2 password flow against
`/token`), run `GET /me` with "Try it out", and read a 200 with the account's e-mail.

    python browser_test.py BASE_URL EMAIL PASSWORD [SCREENSHOT.png]
"""

import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.ui import WebDriverWait


def browser() -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    # Headless, as root, with nothing that phones home (this machine's network is closed).
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                 "--no-first-run", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--window-size=1400,1800", f"--user-data-dir={tempfile.mkdtemp()}"]:
        options.add_argument(flag)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def main() -> None:
    base, email, password = sys.argv[1:4]
    screenshot = sys.argv[4] if len(sys.argv) > 4 else None
    driver = browser()
    wait = WebDriverWait(driver, 30)
    try:
        driver.get(f"{base}/docs")
        wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "button.authorize"))).click()
        wait.until(ready.visibility_of_element_located((By.ID, "oauth_username"))).send_keys(email)
        driver.find_element(By.ID, "oauth_password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, ".auth-btn-wrapper button.authorize").click()
        # Signed in: the dialog says so and offers to log out.
        wait.until(ready.presence_of_element_located((By.XPATH, "//div[contains(@class,'modal-ux')]//button[normalize-space()='Logout']")))
        driver.find_element(By.XPATH, "//div[contains(@class,'modal-ux')]//button[normalize-space()='Close']").click()
        operation = wait.until(ready.element_to_be_clickable((By.ID, "operations-Auth-get_me")))
        operation.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
        wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "#operations-Auth-get_me .try-out__btn"))).click()
        wait.until(ready.element_to_be_clickable((By.CSS_SELECTOR, "#operations-Auth-get_me .execute"))).click()
        status = wait.until(ready.visibility_of_element_located((By.XPATH,
            "//*[@id='operations-Auth-get_me']//table[contains(@class,'live-responses-table')]"
            "//tbody//td[contains(@class,'response-col_status')]")))
        deadline = time.time() + 10
        while not status.text.strip() and time.time() < deadline:
            time.sleep(0.1)
        body = driver.find_element(By.CSS_SELECTOR, "#operations-Auth-get_me .live-responses-table .microlight").text
        if screenshot:
            driver.save_screenshot(screenshot)
        if not status.text.strip().startswith("200") or email not in body:
            sys.exit(f"GET /me in Swagger UI answered {status.text!r}: {body[:300]!r}")
        print(f"Swagger UI at {base}/docs: signed in with the password flow, GET /me answered 200")
    finally:
        driver.quit()


if __name__ == "__main__":
    main()
