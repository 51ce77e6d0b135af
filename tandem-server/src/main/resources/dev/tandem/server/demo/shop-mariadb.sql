-- The demo's MariaDB source database: the same small shop in MySQL/MariaDB types. Statements end with ";" at a
-- line's end.
CREATE TABLE customers (
    id          bigint AUTO_INCREMENT PRIMARY KEY,
    email       varchar(200) NOT NULL UNIQUE,
    name        varchar(200) NOT NULL,
    country     char(2) NOT NULL DEFAULT 'US',
    preferences json NOT NULL,
    created_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    updated_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);

CREATE TABLE products (
    id         int PRIMARY KEY,
    sku        varchar(20) NOT NULL UNIQUE,
    title      varchar(200) NOT NULL,
    price      decimal(10, 2) NOT NULL,
    tags       set('new', 'sale', 'eco', 'gift') NOT NULL DEFAULT '',
    image      blob,
    updated_at datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);

CREATE TABLE orders (
    id          bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    status      enum('new', 'paid', 'shipped', 'cancelled') NOT NULL DEFAULT 'new',
    total       decimal(12, 2) NOT NULL,
    placed_at   datetime(6) NOT NULL,
    updated_at  datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6),
    CONSTRAINT orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id)
);

CREATE TABLE order_items (
    order_id   bigint NOT NULL,
    line_no    int NOT NULL,
    product_id int NOT NULL,
    quantity   int NOT NULL,
    unit_price decimal(10, 2) NOT NULL,
    PRIMARY KEY (order_id, line_no),
    CONSTRAINT items_order FOREIGN KEY (order_id) REFERENCES orders (id),
    CONSTRAINT items_product FOREIGN KEY (product_id) REFERENCES products (id)
);

CREATE TABLE inventory (
    sku          varchar(20) PRIMARY KEY,
    warehouse    varchar(20) NOT NULL,
    quantity     int NOT NULL,
    last_updated datetime(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)
);

INSERT INTO customers (email, name, country, preferences, created_at)
SELECT CONCAT('customer', seq, '@example.com'), CONCAT('Customer ', seq), ELT(1 + seq % 5, 'US', 'DE', 'FR', 'JP', 'BR'),
       JSON_OBJECT('newsletter', seq % 3 = 0, 'language', ELT(1 + seq % 3, 'en', 'de', 'fr')),
       NOW(6) - INTERVAL seq HOUR
  FROM seq_1_to_{{customers}};

INSERT INTO products (id, sku, title, price, tags, image)
SELECT seq, CONCAT('SKU-', LPAD(seq, GREATEST(5, LENGTH(seq)), '0')), CONCAT('Product ', seq), (seq % 200) + 0.99,
       ELT(1 + seq % 4, '', 'new', 'sale,eco', 'gift'), IF(seq % 10 = 0, UNHEX(MD5(seq)), NULL)
  FROM seq_1_to_{{products}};

INSERT INTO orders (id, customer_id, status, total, placed_at)
SELECT seq, 1 + seq % {{customers}}, ELT(1 + seq % 4, 'new', 'paid', 'shipped', 'cancelled'), (seq % 500) + 10.50,
       NOW(6) - INTERVAL seq MINUTE
  FROM seq_1_to_{{orders}};

INSERT INTO order_items (order_id, line_no, product_id, quantity, unit_price)
SELECT o.seq, l.seq, 1 + (o.seq * 7 + l.seq) % {{products}}, 1 + (o.seq + l.seq) % 4, 9.99
  FROM seq_1_to_{{orders}} o, seq_1_to_3 l;

INSERT INTO inventory (sku, warehouse, quantity)
SELECT CONCAT('SKU-', LPAD(seq, GREATEST(5, LENGTH(seq)), '0')), ELT(1 + seq % 3, 'berlin', 'osaka', 'reno'), seq % 97
  FROM seq_1_to_{{products}};

ANALYZE TABLE customers, products, orders, order_items, inventory;
