-- App-owned data the reference actions join with the mirror. Defaults below are a starting
-- point a business edits; the service reads them on every call.

-- generateQuote: volume tiers per product family ('*' = any family), region discounts by the
-- account's billing country, and one ceiling on the total discount.
CREATE TABLE IF NOT EXISTS pricing_volume_tiers (
  product_family text NOT NULL,
  min_quantity numeric NOT NULL CHECK (min_quantity > 0),
  discount_percent numeric NOT NULL CHECK (discount_percent BETWEEN 0 AND 100),
  PRIMARY KEY (product_family, min_quantity)
);
CREATE TABLE IF NOT EXISTS pricing_region_discounts (
  billing_country text PRIMARY KEY,
  discount_percent numeric NOT NULL CHECK (discount_percent BETWEEN 0 AND 100)
);
CREATE TABLE IF NOT EXISTS pricing_settings (
  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  max_total_discount_percent numeric NOT NULL CHECK (max_total_discount_percent BETWEEN 0 AND 100)
);
INSERT INTO pricing_volume_tiers (product_family, min_quantity, discount_percent) VALUES
  ('Hardware', 10, 5), ('Hardware', 50, 10), ('Hardware', 100, 15),
  ('Software', 25, 8), ('Software', 100, 12),
  ('Services', 40, 5)
ON CONFLICT DO NOTHING;
INSERT INTO pricing_region_discounts (billing_country, discount_percent) VALUES
  ('germany', 3), ('france', 3), ('india', 7), ('brazil', 6), ('japan', 2)
ON CONFLICT DO NOTHING;
INSERT INTO pricing_settings (max_total_discount_percent) VALUES (20) ON CONFLICT DO NOTHING;

-- checkAvailability: stock per warehouse, by product code (Product2.ProductCode).
CREATE TABLE IF NOT EXISTS warehouses (
  code text PRIMARY KEY,
  name text NOT NULL,
  country text NOT NULL,
  lead_time_days integer NOT NULL CHECK (lead_time_days >= 0)
);
CREATE TABLE IF NOT EXISTS warehouse_stock (
  warehouse_code text NOT NULL REFERENCES warehouses (code),
  product_code text NOT NULL,
  quantity_on_hand integer NOT NULL CHECK (quantity_on_hand >= 0),
  quantity_reserved integer NOT NULL DEFAULT 0 CHECK (quantity_reserved >= 0),
  next_restock_date date,
  next_restock_quantity integer,
  PRIMARY KEY (product_code, warehouse_code)
);

-- accountInsights: orders placed on the web shop, which Salesforce does not hold.
CREATE TABLE IF NOT EXISTS web_orders (
  id bigserial PRIMARY KEY,
  account_sfid varchar(18) NOT NULL,
  ordered_at timestamptz NOT NULL,
  total numeric NOT NULL,
  status text NOT NULL DEFAULT 'completed'
);
CREATE INDEX IF NOT EXISTS web_orders_account ON web_orders (account_sfid, ordered_at DESC);
